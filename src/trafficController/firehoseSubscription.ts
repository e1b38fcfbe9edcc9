import { Refusal } from '../http/refusal';

/** What a firehose subscription id may be: it names a metric series and travels in URLs. */
export const SUBSCRIPTION_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
export const SUBSCRIPTION_RULE = '1-128 characters of A-Z a-z 0-9 . _ : -';

/** A request's subscription id, or the 400 that says what is wrong with it. */
export function subscriptionOf(url: URL): string | Refusal {
  const subscription = url.searchParams.get('subscription');
  if (subscription !== null && SUBSCRIPTION_PATTERN.test(subscription)) return subscription;
  const given = subscription === null ? 'missing' : `${JSON.stringify(subscription.slice(0, 140))} is not valid`;
  return new Refusal(400, 'bad_request', `query parameter subscription: ${given}; use ${SUBSCRIPTION_RULE} (consumers with the same id share the lines)`);
}
