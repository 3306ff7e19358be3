import { checkIndex, DEFAULT_MAX_INDEX, type IndexCheck } from '@fibstack/contract/values';

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Applies the server's index rules to what was typed: empty is "required", anything that reads as a
 * number is checked as that number, and any other text is reported as not a number.
 */
export function parseIndexInput(text: string, maxIndex = DEFAULT_MAX_INDEX): IndexCheck {
  const trimmed = text.trim();
  if (trimmed === '') return checkIndex(undefined, maxIndex);
  return checkIndex(NUMBER_TEXT.test(trimmed) ? Number(trimmed) : trimmed, maxIndex);
}
