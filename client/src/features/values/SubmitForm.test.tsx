import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { jsonResponse, stubApi, valueCalls } from '../../testing/fake-api';
import { SubmitForm } from './SubmitForm';

/**
 * This server allows up to 500, not the default 100,000: the form must say and check what it is told.
 * (The page asks once per load, so only this file's first test sees the request.)
 */
const limits = { 'GET /api/limits': () => jsonResponse({ maxIndex: 500 }) };
const HINT = 'A whole number from 0 to 500.';

async function submit(text: string) {
  const user = userEvent.setup();
  const input = screen.getByRole('textbox', { name: 'Index' });
  await user.clear(input);
  if (text) await user.type(input, text);
  await user.click(screen.getByRole('button', { name: 'Calculate' }));
}

async function renderForm(routes = {}, onSubmitted = vi.fn()) {
  const calls = stubApi({ ...limits, ...routes });
  render(<SubmitForm onSubmitted={onSubmitted} />);
  expect(await screen.findByText(HINT)).toBeInTheDocument();
  return { calls, onSubmitted };
}

describe('SubmitForm', () => {
  it.each([
    ['', 'Enter a whole number from 0 to 500.'],
    ['-3', 'The index cannot be negative. Enter a whole number from 0 to 500.'],
    ['2.5', 'Leave out the decimal part. Enter a whole number from 0 to 500.'],
    ['abc', 'Use digits only. Enter a whole number from 0 to 500.'],
    ['501', 'That is more than 500, the largest index calculated here. Enter a whole number from 0 to 500.'],
  ])('refuses %j before sending, in plain words on the field', async (text, message) => {
    const { calls, onSubmitted } = await renderForm();
    await submit(text);
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent(message);
    const input = screen.getByRole('textbox', { name: 'Index' });
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input.getAttribute('aria-describedby')).toContain(alert.id);
    expect(input).toHaveFocus();
    expect(valueCalls(calls)).toEqual([]);
    expect(onSubmitted).not.toHaveBeenCalled();
  });

  it('puts a new alert in the page for a repeated mistake, so it is announced again', async () => {
    await renderForm();
    await submit('abc');
    const first = screen.getByRole('alert');
    await submit('abc');
    const second = screen.getByRole('alert');
    expect(second).toHaveTextContent(first.textContent);
    expect(second).not.toBe(first);
  });

  it('sends the number leading zeros denote', async () => {
    const { onSubmitted, calls } = await renderForm({
      'POST /api/values': () => jsonResponse({ index: 10, status: 'pending', submissionId: '1' }, 202),
    });
    await submit('0010');
    expect(onSubmitted).toHaveBeenCalledWith({ index: 10, status: 'pending', submissionId: '1' });
    expect(valueCalls(calls)).toEqual(['POST /api/values']);
    const [, init] = vi.mocked(fetch).mock.calls.find(([url]) => url === '/api/values')!;
    expect(init!.body).toBe('{"index":10}');
  });

  it('sends a valid index and hands over the answer', async () => {
    const { onSubmitted } = await renderForm({
      'POST /api/values': () => jsonResponse({ index: 10, status: 'pending', submissionId: '1' }, 202),
    });
    await submit('10');
    expect(onSubmitted).toHaveBeenCalledWith({ index: 10, status: 'pending', submissionId: '1' });
    expect(screen.getByRole('textbox', { name: 'Index' })).toHaveValue('');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('disables Calculate while sending and gives the focus back to the input', async () => {
    let answer!: (response: Response) => void;
    await renderForm({ 'POST /api/values': () => new Promise<Response>((resolve) => (answer = resolve)) });
    await submit('10');
    expect(screen.getByRole('button', { name: 'Sending…' })).toBeDisabled();
    await act(async () => answer(jsonResponse({ index: 10, status: 'pending', submissionId: '1' }, 202)));
    expect(screen.getByRole('button', { name: 'Calculate' })).toBeEnabled();
    expect(screen.getByRole('textbox', { name: 'Index' })).toHaveFocus();
  });

  it('keeps what was typed while the previous index was being sent', async () => {
    let answer!: (response: Response) => void;
    await renderForm({ 'POST /api/values': () => new Promise<Response>((resolve) => (answer = resolve)) });
    await submit('10');
    const input = screen.getByRole('textbox', { name: 'Index' });
    await userEvent.clear(input);
    await userEvent.type(input, '11');
    await act(async () => answer(jsonResponse({ index: 10, status: 'pending', submissionId: '1' }, 202)));
    expect(input).toHaveValue('11');
  });

  it('keeps the same index typed again while it was being sent', async () => {
    let answer!: (response: Response) => void;
    await renderForm({ 'POST /api/values': () => new Promise<Response>((resolve) => (answer = resolve)) });
    await submit('10');
    const input = screen.getByRole('textbox', { name: 'Index' });
    await userEvent.clear(input);
    await userEvent.type(input, '10');
    await act(async () => answer(jsonResponse({ index: 10, status: 'pending', submissionId: '1' }, 202)));
    expect(input).toHaveValue('10');
  });

  it.each([
    [
      'a 429',
      () => jsonResponse({ error: { code: 'rate_limited', message: 'at most 5 a minute' } }, 429),
      'Too many requests from your connection in the last minute. Wait a minute, then try again.',
    ],
    [
      'a 503',
      () => jsonResponse({ error: { code: 'service_unavailable', message: 'db down' } }, 503),
      'The calculator cannot store or read values right now. Try again in a moment.',
    ],
    [
      'a proxy 502',
      () => new Response('<html>502</html>', { status: 502 }),
      'The calculator is not answering right now. Try again in a moment.',
    ],
    ['no answer', undefined, 'The calculator cannot be reached. Check your connection, then try again.'],
  ])('explains %s for the whole form, leaving the field valid', async (_what, answer, message) => {
    await renderForm(answer ? { 'POST /api/values': answer } : {});
    await submit('42');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(message);
    const input = screen.getByRole('textbox', { name: 'Index' });
    expect(input).not.toHaveAttribute('aria-invalid');
    expect(input.getAttribute('aria-describedby')).toBe(screen.getByText(HINT).id);
    expect(input).toHaveValue('42');
  });

  it("explains the server's refusal of an index on the field", async () => {
    await renderForm({
      'POST /api/values': () => jsonResponse({ error: { code: 'index_too_large', message: 'index must be at most 400' } }, 422),
    });
    await submit('450');
    expect(await screen.findByRole('alert')).toHaveTextContent('That is more than 500, the largest index calculated here.');
    expect(screen.getByRole('textbox', { name: 'Index' })).toHaveAttribute('aria-invalid', 'true');
  });
});
