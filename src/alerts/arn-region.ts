/** `arn:aws:sns:eu-west-1:…` → `eu-west-1`; undefined (the SDK's default region chain) when the ARN has none. */
export function regionOfArn(arn: string): string | undefined {
  const region = arn.split(':')[3];
  return region ? region : undefined;
}
