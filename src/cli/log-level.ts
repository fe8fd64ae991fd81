// Imported first by the CLI entry: the logger reads its level when its module is evaluated, and on a
// terminal logs would mix with results, so the CLI runs quiet unless KEYTRAIL_LOG_LEVEL says so.
process.env['POWERTOOLS_LOG_LEVEL'] ??= process.env['KEYTRAIL_LOG_LEVEL'] ?? 'ERROR';

export {};
