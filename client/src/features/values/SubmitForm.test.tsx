import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { jsonResponse, stubApi } from '../../testing/fake-api';
import { SubmitForm } from './SubmitForm';

async function submit(text: string) {
  const user = userEvent.setup();
  const input = screen.getByRole('textbox', { name: 'Index' });
  await user.clear(input);
  if (text) await user.type(input, text);
  await user.click(screen.getByRole('button', { name: 'Calculate' }));
}

describe('SubmitForm', () => {
  it.each([
    ['', 'index is required'],
    ['-3', 'index must not be negative, got -3'],
    ['2.5', 'index must be a whole number, got 2.5'],
    ['abc', 'index must be a number, got the string "abc"'],
    ['100001', 'index must be at most 100000, got 100001'],
  ])('refuses %j before sending: %s', async (text, message) => {
    const calls = stubApi({});
    const onSubmitted = vi.fn();
    render(<SubmitForm onSubmitted={onSubmitted} />);
    await submit(text);
    const alert = screen.getByRole('alert');
    expect(alert).toHaveTextContent(message);
    const input = screen.getByRole('textbox', { name: 'Index' });
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input.getAttribute('aria-describedby')).toContain(alert.id);
    expect(input).toHaveFocus();
    expect(calls).toEqual([]);
    expect(onSubmitted).not.toHaveBeenCalled();
  });

  it('sends a valid index and hands over the answer', async () => {
    stubApi({ 'POST /api/values': () => jsonResponse({ index: 10, status: 'pending' }, 202) });
    const onSubmitted = vi.fn();
    render(<SubmitForm onSubmitted={onSubmitted} />);
    await submit('10');
    expect(onSubmitted).toHaveBeenCalledWith({ index: 10, status: 'pending' });
    expect(screen.getByRole('textbox', { name: 'Index' })).toHaveValue('');
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('disables Calculate while sending and gives the focus back to the input', async () => {
    let answer!: (response: Response) => void;
    stubApi({ 'POST /api/values': () => new Promise<Response>((resolve) => (answer = resolve)) });
    render(<SubmitForm onSubmitted={vi.fn()} />);
    await submit('10');
    expect(screen.getByRole('button', { name: 'Sending…' })).toBeDisabled();
    await act(async () => answer(jsonResponse({ index: 10, status: 'pending' }, 202)));
    expect(screen.getByRole('button', { name: 'Calculate' })).toBeEnabled();
    expect(screen.getByRole('textbox', { name: 'Index' })).toHaveFocus();
  });

  it('keeps what was typed while the previous index was being sent', async () => {
    let answer!: (response: Response) => void;
    stubApi({ 'POST /api/values': () => new Promise<Response>((resolve) => (answer = resolve)) });
    render(<SubmitForm onSubmitted={vi.fn()} />);
    await submit('10');
    const input = screen.getByRole('textbox', { name: 'Index' });
    await userEvent.clear(input);
    await userEvent.type(input, '11');
    await act(async () => answer(jsonResponse({ index: 10, status: 'pending' }, 202)));
    expect(input).toHaveValue('11');
  });

  it("shows the server's error message inline", async () => {
    stubApi({
      'POST /api/values': () =>
        jsonResponse({ error: { code: 'rate_limited', message: 'too many requests: at most 5 a minute' } }, 429),
    });
    render(<SubmitForm onSubmitted={vi.fn()} />);
    await submit('10');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('too many requests: at most 5 a minute');
    const input = screen.getByRole('textbox', { name: 'Index' });
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input.getAttribute('aria-describedby')).toContain(alert.id);
  });

  it('says so when the API cannot be reached', async () => {
    stubApi({});
    render(<SubmitForm onSubmitted={vi.fn()} />);
    await submit('10');
    expect(await screen.findByRole('alert')).toHaveTextContent('The API cannot be reached');
  });
});
