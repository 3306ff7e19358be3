import type { ErrorCode } from '@fibstack/contract/errors';
import type { Limits } from '@fibstack/contract/limits';
import { ApiRequestError, type ClientErrorCode } from './http';

/** What a person reads about a failure, and where: on the index field, or for the request as a whole. */
export interface Explanation {
  text: string;
  /** The index typed breaks a rule (the field is marked invalid); otherwise retrying may work. */
  field: boolean;
}

const number = (n: number) => n.toLocaleString('en');

/** The rule in one sentence; before the server's limits have arrived, without its upper bound. */
const rule = (limits: Limits | undefined) =>
  limits ? `Enter a whole number from 0 to ${number(limits.maxIndex)}.` : 'Enter a whole number, 0 or more.';

const RELOAD = 'This page could not make a request the server accepts. Reload the page, then try again.';
const LATER = 'Try again in a moment.';

/**
 * The one table from every error code the API answers with (contract/errors) and every failure the
 * client meets by itself to plain language. The type makes a new code in the contract a compile error
 * here until it is explained.
 */
const EXPLANATIONS: Record<ErrorCode | ClientErrorCode, { field?: true; text: (limits: Limits | undefined) => string }> = {
  index_required: { field: true, text: rule },
  index_not_number: { field: true, text: (limits) => `Use digits only. ${rule(limits)}` },
  index_not_integer: { field: true, text: (limits) => `Leave out the decimal part. ${rule(limits)}` },
  index_negative: { field: true, text: (limits) => `The index cannot be negative. ${rule(limits)}` },
  index_too_large: {
    field: true,
    text: (limits) =>
      limits
        ? `That is more than ${number(limits.maxIndex)}, the largest index calculated here. ${rule(limits)}`
        : 'That index is larger than this calculator accepts.',
  },
  body_not_object: { text: () => RELOAD },
  invalid_json: { text: () => RELOAD },
  invalid_query: { text: () => RELOAD },
  invalid_last_event_id: { text: () => RELOAD },
  unsupported_media_type: { text: () => RELOAD },
  payload_too_large: { text: () => RELOAD },
  // Only the operators' queue dashboard (/admin) asks for credentials; this page never should.
  unauthorized: { text: () => RELOAD },
  not_found: { text: () => 'The server does not know this request. Reload the page to get the current version.' },
  rate_limited: { text: () => 'Too many requests from your connection in the last minute. Wait a minute, then try again.' },
  too_many_streams: {
    text: () => 'Too many pages with live updates are open on your connection. Close some of them, then reload this one.',
  },
  streams_at_capacity: { text: () => `Live updates are busy on the server right now. ${LATER}` },
  internal_error: { text: () => `Something went wrong on the server. ${LATER}` },
  service_unavailable: { text: () => `The calculator cannot store or read values right now. ${LATER}` },
  network_error: { text: () => 'The calculator cannot be reached. Check your connection, then try again.' },
  unavailable: { text: () => `The calculator is not answering right now. ${LATER}` },
  bad_response: { text: () => 'The server answered in a way this page does not understand. Reload the page to get the current version.' },
};

const isKnown = (code: string): code is keyof typeof EXPLANATIONS => Object.hasOwn(EXPLANATIONS, code);

/** Explains an error code; one this client does not know yet (a newer server) is told by its HTTP status. */
export function explainCode(code: string, limits?: Limits, status = 0): Explanation {
  const known = isKnown(code) ? code : status >= 400 && status < 500 ? 'invalid_json' : 'unavailable';
  const { field, text } = EXPLANATIONS[known];
  return { text: text(limits), field: field ?? false };
}

/** Explains anything a request threw. */
export function explain(error: unknown, limits?: Limits): Explanation {
  if (error instanceof ApiRequestError) return explainCode(error.code, limits, error.status);
  return explainCode('unavailable');
}
