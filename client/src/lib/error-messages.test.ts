import { errorStatus, type ErrorCode } from '@fibstack/contract/errors';
import { describe, expect, it } from 'vitest';
import { explain, explainCode } from './error-messages';
import { ApiRequestError } from './http';

const limits = { maxIndex: 100_000 };
const apiCodes = Object.keys(errorStatus) as ErrorCode[];

describe('explain', () => {
  it.each(apiCodes)('explains the API code %s in plain language', (code) => {
    const { text } = explainCode(code, limits);
    expect(text).toMatch(/^[A-Z].*\.$/);
    // Developer wording: code names, "got …", "index must be …".
    expect(text).not.toMatch(/_|\bgot\b|must be|HTTP|\d{6}/);
  });

  it('states the rule with the server limit, grouped for reading', () => {
    expect(explainCode('index_required', limits).text).toBe('Enter a whole number from 0 to 100,000.');
    expect(explainCode('index_required', { maxIndex: 500 }).text).toBe('Enter a whole number from 0 to 500.');
    expect(explainCode('index_required').text).toBe('Enter a whole number, 0 or more.');
  });

  it('puts index rules on the field and everything else on the form', () => {
    const onField = apiCodes.filter((code) => explainCode(code).field);
    expect(onField.sort()).toEqual(['index_negative', 'index_not_integer', 'index_not_number', 'index_required', 'index_too_large']);
    for (const code of ['network_error', 'unavailable', 'bad_response']) expect(explainCode(code).field).toBe(false);
  });

  it('tells a code this client does not know by its status', () => {
    expect(explain(new ApiRequestError(409, 'brand_new_rule', 'x'))).toEqual(explainCode('invalid_json'));
    expect(explain(new ApiRequestError(507, 'brand_new_outage', 'x'))).toEqual(explainCode('unavailable'));
    expect(explain(new Error('anything'))).toEqual(explainCode('unavailable'));
  });
});
