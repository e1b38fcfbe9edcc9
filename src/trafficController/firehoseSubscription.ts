/** What a firehose subscription id may be: it names a metric series and travels in URLs. */
export const SUBSCRIPTION_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const SUBSCRIPTION_RULE = '1-128 characters of A-Z a-z 0-9 . _ : -';
