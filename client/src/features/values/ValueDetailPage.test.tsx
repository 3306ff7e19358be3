import { act, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../../app/App';
import { FakeEventSource, installFakeEventSource, jsonResponse, stubApi, valueCalls } from '../../testing/fake-api';

const at = '2026-11-24T10:00:00.000Z';
const limits = { 'GET /api/limits': () => jsonResponse({ maxIndex: 100_000 }) };
const done = (index: number, value: string) => ({ index, status: 'done', value, digits: value.length, computedAt: at, computeMs: 0.4 });
/** A value long enough to be collapsed: 1,234 digits. */
const long = '1234567890'.repeat(123) + '1234';

beforeEach(() => installFakeEventSource());

function openAt(path: string) {
  window.history.replaceState(null, '', path);
  render(<App />);
}

describe('value detail page', () => {
  it('shows a short value whole in blocks of ten, with Copy and Back together, fetched once', async () => {
    const value = '9'.repeat(25);
    const calls = stubApi({ ...limits, 'GET /api/values/120': () => jsonResponse(done(120, value)) });
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    openAt('/values/120');
    const whole = await screen.findByTestId('whole-value');
    expect(whole.textContent).toBe(value);
    expect([...whole.children].map((group) => group.textContent)).toEqual(['9'.repeat(10), '9'.repeat(10), '9'.repeat(5)]);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Fibonacci(120)');
    expect(document.title).toBe('Fibonacci(120) — fibstack');
    const copy = screen.getByRole('button', { name: 'Copy' });
    expect(copy.closest('.actions')).toBe(screen.getByRole('link', { name: 'Back to the calculator' }).parentElement);
    expect(screen.queryByRole('button', { name: /Show all/ })).toBeNull();
    await userEvent.click(copy);
    expect(writeText).toHaveBeenCalledWith(value);
    expect(await screen.findByText('Copied')).toBeInTheDocument();
    act(() => FakeEventSource.last!.start());
    expect(valueCalls(calls)).toEqual(['GET /api/values/120']);
  });

  it('collapses a long value behind "Show all digits", and offers it as a download', async () => {
    stubApi({ ...limits, 'GET /api/values/3000': () => jsonResponse(done(3000, long)) });
    openAt('/values/3000');
    const whole = await screen.findByTestId('whole-value');
    expect(whole).toHaveTextContent(`${long.slice(0, 500)}… and 734 more digits`);
    expect(await screen.findByRole('link', { name: 'Download' })).toHaveAttribute('download', 'fibonacci-3000.txt');
    const toggle = screen.getByRole('button', { name: 'Show all 1,234 digits' });
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    await userEvent.click(toggle);
    expect(whole.textContent).toBe(long);
    expect(screen.getByRole('button', { name: 'Show fewer digits' })).toHaveAttribute('aria-expanded', 'true');
  });

  it('explains when the clipboard is not available', async () => {
    stubApi({ ...limits, 'GET /api/values/10': () => jsonResponse(done(10, '55')) });
    vi.stubGlobal('navigator', { ...navigator, clipboard: undefined });
    openAt('/values/10');
    expect(await screen.findByText('55')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Copy' }));
    expect(await screen.findByText(/Copying is not available here/)).toBeInTheDocument();
  });

  it('shows an error banner in plain words with Retry when the API is down', async () => {
    let up = false;
    stubApi({
      ...limits,
      'GET /api/values/10': () =>
        up
          ? jsonResponse(done(10, '55'))
          : jsonResponse({ error: { code: 'service_unavailable', message: 'the database is not reachable' } }, 503),
    });
    openAt('/values/10');
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The calculator cannot store or read values right now. Try again in a moment.',
    );
    up = true;
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await screen.findByText('55')).toBeInTheDocument();
  });

  it('updates a pending value when its result arrives, and says it is ready', async () => {
    let ready = false;
    stubApi({ ...limits, 'GET /api/values/20': () => jsonResponse(ready ? done(20, '6765') : { index: 20, status: 'pending' }) });
    openAt('/values/20');
    expect(await screen.findByText(/Computing…/)).toBeInTheDocument();
    ready = true;
    act(() =>
      FakeEventSource.last!.emit('result', { index: 20, value: '6765', digits: 4, truncated: false, computeMs: 0.1, computedAt: at }),
    );
    expect(await screen.findByText('6765')).toBeInTheDocument();
    expect(screen.getByText('Fibonacci(20) is ready.')).toBeInTheDocument();
  });

  it('fetches a pending value again when a stream starts without resuming, as its event may have gone by', async () => {
    let ready = false;
    const calls = stubApi({
      ...limits,
      'GET /api/values/20': () => jsonResponse(ready ? done(20, '6765') : { index: 20, status: 'pending' }),
    });
    openAt('/values/20');
    expect(await screen.findByText(/Computing…/)).toBeInTheDocument();
    ready = true;
    act(() => FakeEventSource.last!.start());
    expect(await screen.findByTestId('whole-value')).toHaveTextContent('6765');
    expect(valueCalls(calls)).toEqual(['GET /api/values/20', 'GET /api/values/20']);
  });

  it('offers to calculate an index never submitted, and shows it arrive', async () => {
    let submitted = false;
    stubApi({
      ...limits,
      'GET /api/values/77': () =>
        submitted ? jsonResponse(done(77, '5527939700884757')) : jsonResponse({ error: { code: 'not_found', message: 'no' } }, 404),
      'POST /api/values': () => {
        submitted = true;
        return jsonResponse({ index: 77, status: 'pending', submissionId: '1' }, 202);
      },
    });
    openAt('/values/77');
    expect(await screen.findByText('Index 77 has not been calculated yet.')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Calculate it' }));
    expect(await screen.findByText(/Computing…/)).toBeInTheDocument();
    act(() =>
      FakeEventSource.last!.emit('result', {
        index: 77,
        value: '5527939700884757',
        digits: 16,
        truncated: false,
        computeMs: 0.1,
        computedAt: at,
      }),
    );
    expect(await screen.findByTestId('whole-value')).toHaveTextContent('5527939700884757');
  });

  it('says an index never submitted is beyond the limit instead of offering it', async () => {
    stubApi({ ...limits, 'GET /api/values/100001': () => jsonResponse({ error: { code: 'not_found', message: 'no' } }, 404) });
    openAt('/values/100001');
    expect(await screen.findByText(/That is more than 100,000, the largest index calculated here/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Calculate it' })).toBeNull();
  });

  it.each([
    ['0010', '/values/10'],
    ['1e1', '/values/10'],
  ])('shows /values/%s at its canonical address', async (param, canonical) => {
    stubApi({ ...limits, 'GET /api/values/10': () => jsonResponse(done(10, '55')) });
    openAt(`/values/${param}`);
    expect(await screen.findByTestId('whole-value')).toHaveTextContent('55');
    expect(window.location.pathname).toBe(canonical);
  });

  it.each([
    ['abc', 'Use digits only.'],
    ['-3', 'The index cannot be negative.'],
    ['2.5', 'Leave out the decimal part.'],
  ])('refuses /values/%s in plain words without asking for a value', async (param, message) => {
    const calls = stubApi({ ...limits });
    openAt(`/values/${param}`);
    expect(await screen.findByRole('alert')).toHaveTextContent(`“${param}” is not an index. ${message}`);
    expect(document.title).toBe('Not an index — fibstack');
    expect(screen.getByRole('link', { name: 'Back to the calculator' })).toHaveAttribute('href', '/');
    expect(valueCalls(calls)).toEqual([]);
  });
});
