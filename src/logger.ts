import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The one structured logger. Locally the CLI sets POWERTOOLS_LOG_LEVEL (default WARN) so logs do not
 * mix with its output; in Lambda the level comes from the function's environment.
 */
export const logger = new Logger({ serviceName: 'keytrail' });
