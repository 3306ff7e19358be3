import { checkIndex, type IndexCheck } from '@fibstack/contract/values';

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * Applies the server's index rules to what was typed: empty is "required", anything that reads as a
 * number is checked as the number it denotes ("0010" is 10, "1e3" is 1000), and any other text is not a
 * number. Without the server's limit yet, the upper bound is left to the server.
 */
export function parseIndexInput(text: string, maxIndex = Number.POSITIVE_INFINITY): IndexCheck {
  const trimmed = text.trim();
  if (trimmed === '') return checkIndex(undefined, maxIndex);
  return checkIndex(NUMBER_TEXT.test(trimmed) ? Number(trimmed) : trimmed, maxIndex);
}
