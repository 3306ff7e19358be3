import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeEventSource, installFakeEventSource, jsonResponse, stubApi, valueCalls } from '../../testing/fake-api';
import { HomePage } from './HomePage';

const at = '2026-11-24T10:00:00.000Z';
const limits = { 'GET /api/limits': () => jsonResponse({ maxIndex: 100_000 }) };

/** A submitted index of the list, last submitted as submission `id`, `submissions` times in all. */
function item(id: number, index: number, value?: string, submissions = 1) {
  const base = { index, submissions, firstSubmittedAt: at, lastSubmittedAt: at, lastSubmissionId: String(id) };
  return value === undefined ? { ...base, status: 'pending' } : { ...base, status: 'done', value, digits: value.length, truncated: false };
}

const result = (index: number, value: string) => ({ index, value, digits: value.length, truncated: false, computeMs: 0.1, computedAt: at });
const calculated = () => within(screen.getByRole('region', { name: 'Calculated values' }));
const seen = () => within(screen.getByRole('region', { name: 'Indexes I have seen' }));
/** What the polite live region says now. */
const announced = () => document.querySelector('[aria-live="polite"]')!.textContent;

beforeEach(() => installFakeEventSource());

describe('HomePage', () => {
  it('lists each index once with its count, as a link, and values, pending ones as pending', async () => {
    stubApi({
      ...limits,
      'GET /api/values': () => jsonResponse({ items: [item(3, 7), item(2, 10, '55', 2)], nextCursor: null }),
    });
    render(<HomePage />);
    expect(await calculated().findByText('55')).toBeInTheDocument();
    expect(calculated().getByText('pending…')).toBeInTheDocument();
    const chips = seen().getAllByRole('link');
    expect(chips.map((chip) => chip.textContent)).toEqual(['7', '10×2 (submitted 2 times)']);
    expect(chips.map((chip) => chip.getAttribute('href'))).toEqual(['/values/7', '/values/10']);
    expect(calculated().getAllByRole('listitem')).toHaveLength(2);
  });

  it('fills in a shown value live and announces it, but not results for indexes it does not show', async () => {
    stubApi({ ...limits, 'GET /api/values': () => jsonResponse({ items: [item(1, 7)], nextCursor: null }) });
    render(<HomePage />);
    await calculated().findByText('pending…');
    act(() => FakeEventSource.last!.emit('result', result(777, '1')));
    expect(announced()).toBe('');
    act(() => FakeEventSource.last!.emit('result', result(7, '13')));
    expect(calculated().getByText('13')).toBeInTheDocument();
    expect(calculated().queryByText('pending…')).toBeNull();
    expect(announced()).toBe('Fibonacci(7) = 13');
  });

  it('links a shortened value to its detail page with the digit count', async () => {
    const preview = `${'1'.repeat(60)}…`;
    stubApi({
      ...limits,
      'GET /api/values': () =>
        jsonResponse({
          items: [{ ...item(1, 500), status: 'done', value: preview, digits: 105, truncated: true }],
          nextCursor: null,
        }),
    });
    render(<HomePage />);
    expect(await calculated().findByRole('link', { name: '(105 digits, see all)' })).toHaveAttribute('href', '/values/500');
  });

  it('asks for the first page once when nothing is pending, however the stream opens', async () => {
    const calls = stubApi({ ...limits, 'GET /api/values': () => jsonResponse({ items: [item(1, 10, '55')], nextCursor: null }) });
    render(<HomePage />);
    // The stream opens while the first page is on its way, then the page arrives with nothing pending.
    act(() => FakeEventSource.last!.start());
    await calculated().findByText('55');
    expect(valueCalls(calls)).toEqual(['GET /api/values']);
  });

  it('asks again when a stream starts without resuming after a first page with a pending value, which may have been stored meanwhile', async () => {
    let value: string | undefined;
    const calls = stubApi({ ...limits, 'GET /api/values': () => jsonResponse({ items: [item(1, 7, value)], nextCursor: null }) });
    render(<HomePage />);
    await calculated().findByText('pending…');
    value = '13';
    act(() => FakeEventSource.last!.start());
    expect(await calculated().findByText('13')).toBeInTheDocument();
    expect(valueCalls(calls)).toEqual(['GET /api/values', 'GET /api/values']);
  });

  it('says live updates are paused while the stream is down; when it is back, what it missed is replayed or fetched', async () => {
    const values: Record<number, string | undefined> = {};
    const calls = stubApi({
      ...limits,
      'GET /api/values': () => jsonResponse({ items: [item(3, 8, values[8]), item(2, 7, values[7]), item(1, 10, '55')], nextCursor: null }),
    });
    render(<HomePage />);
    await calculated().findAllByText('pending…');
    act(() => FakeEventSource.last!.start({ lastEventId: '4' }));
    await waitFor(() => expect(valueCalls(calls)).toHaveLength(2));
    const status = screen.getByRole('status');
    expect(status).toHaveTextContent('');
    act(() => FakeEventSource.last!.fail());
    expect(status).toHaveTextContent('Live updates paused — reconnecting…');
    // Stored while the stream was down; the browser resumes from the last id and the server replays it.
    values[7] = '13';
    act(() => FakeEventSource.last!.start({ resumed: true, lastEventId: '4' }));
    expect(status).toHaveTextContent('Live updates resumed.');
    act(() => FakeEventSource.last!.emit('result', result(7, '13'), '5'));
    expect(calculated().getByText('13')).toBeInTheDocument();
    expect(valueCalls(calls)).toHaveLength(2);
    // Too far behind to be replayed: the server says so, and what is still pending is fetched again.
    act(() => FakeEventSource.last!.fail());
    values[8] = '21';
    act(() => FakeEventSource.last!.start({ resumed: false, lastEventId: '900' }));
    expect(await calculated().findByText('21')).toBeInTheDocument();
    expect(valueCalls(calls)).toHaveLength(3);
    // Nothing pending any more: the next break and return need no request.
    act(() => FakeEventSource.last!.fail());
    act(() => FakeEventSource.last!.start());
    expect(valueCalls(calls)).toHaveLength(3);
  });

  it('subscribes again by itself when the browser gives up on the stream', async () => {
    stubApi({ ...limits, 'GET /api/values': () => jsonResponse({ items: [], nextCursor: null }) });
    render(<HomePage />);
    await screen.findByText('Nothing submitted yet.');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      act(() => FakeEventSource.last!.fail({ gaveUp: true }));
      expect(FakeEventSource.opened).toBe(1);
      act(() => {
        vi.runOnlyPendingTimers();
      });
      expect(FakeEventSource.opened).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows a new submission at once and announces a known value', async () => {
    stubApi({
      ...limits,
      'GET /api/values': () => jsonResponse({ items: [], nextCursor: null }),
      'POST /api/values': () => jsonResponse({ index: 12, status: 'done', submissionId: '1', value: '144', digits: 3, truncated: false }),
    });
    render(<HomePage />);
    await screen.findByText('Nothing submitted yet.');
    await userEvent.type(screen.getByRole('textbox', { name: 'Index' }), '12');
    await userEvent.click(screen.getByRole('button', { name: 'Calculate' }));
    expect(await calculated().findByText('144')).toBeInTheDocument();
    expect(seen().getByRole('link', { name: '12' })).toBeInTheDocument();
    expect(announced()).toBe('Fibonacci(12) = 144');
  });

  it('announces its own result even when the event arrives before the answer to the submission', async () => {
    let answer!: (response: Response) => void;
    stubApi({
      ...limits,
      'GET /api/values': () => jsonResponse({ items: [], nextCursor: null }),
      'POST /api/values': () => new Promise<Response>((resolve) => (answer = resolve)),
    });
    render(<HomePage />);
    await screen.findByText('Nothing submitted yet.');
    await userEvent.type(screen.getByRole('textbox', { name: 'Index' }), '10');
    await userEvent.click(screen.getByRole('button', { name: 'Calculate' }));
    act(() => FakeEventSource.last!.emit('result', result(10, '55')));
    expect(announced()).toBe('');
    await act(async () => answer(jsonResponse({ index: 10, status: 'pending', submissionId: '1' }, 202)));
    expect(calculated().getByText('55')).toBeInTheDocument();
    expect(announced()).toBe('Fibonacci(10) = 55');
  });

  it('announces its own value when it comes with the page fetched after live updates were paused', async () => {
    let items = [item(1, 6, '8')];
    stubApi({
      ...limits,
      'GET /api/values': () => jsonResponse({ items, nextCursor: null }),
      'POST /api/values': () => jsonResponse({ index: 23, status: 'pending', submissionId: '2' }, 202),
    });
    render(<HomePage />);
    await calculated().findByText('8');
    act(() => FakeEventSource.last!.start());
    act(() => FakeEventSource.last!.fail());
    await userEvent.type(screen.getByRole('textbox', { name: 'Index' }), '23');
    await userEvent.click(screen.getByRole('button', { name: 'Calculate' }));
    expect(await calculated().findByText('pending…')).toBeInTheDocument();
    items = [item(2, 23, '28657'), ...items];
    act(() => FakeEventSource.last!.start());
    expect(await calculated().findByText('28657')).toBeInTheDocument();
    // Announced by an effect after the render that shows the value, so possibly one render later.
    await waitFor(() => expect(announced()).toBe('Fibonacci(23) = 28657'));
  });

  it('counts its own submission on the chip of an index listed already, and moves it to the top', async () => {
    stubApi({
      ...limits,
      'GET /api/values': () => jsonResponse({ items: [item(5, 7, '13'), item(4, 10, '55', 2)], nextCursor: null }),
      'POST /api/values': () => jsonResponse({ index: 10, status: 'done', submissionId: '6', value: '55', digits: 2, truncated: false }),
    });
    render(<HomePage />);
    await calculated().findByText('13');
    await userEvent.type(screen.getByRole('textbox', { name: 'Index' }), '10');
    await userEvent.click(screen.getByRole('button', { name: 'Calculate' }));
    const chips = () =>
      seen()
        .getAllByRole('link')
        .map((chip) => chip.textContent);
    await waitFor(() => expect(chips()).toEqual(['10×3 (submitted 3 times)', '7']));
    expect(
      calculated()
        .getAllByRole('listitem')
        .map((row) => row.textContent),
    ).toEqual(['For index 10 I calculated 55', 'For index 7 I calculated 13']);
  });

  it('loads older submissions with the cursor', async () => {
    stubApi({
      ...limits,
      'GET /api/values': () => jsonResponse({ items: [item(2, 20, '6765')], nextCursor: '2' }),
      'GET /api/values?cursor=2': () => jsonResponse({ items: [item(1, 21, '10946')], nextCursor: null }),
    });
    render(<HomePage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Load more' }));
    expect(await calculated().findByText('10946')).toBeInTheDocument();
    expect(
      seen()
        .getAllByRole('link')
        .map((chip) => chip.textContent),
    ).toEqual(['20', '21']);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('shows an error banner in plain words with Retry when the API is down, and recovers', async () => {
    let up = false;
    stubApi({
      ...limits,
      'GET /api/values': () =>
        up ? jsonResponse({ items: [item(1, 10, '55')], nextCursor: null }) : new Response('<html>502</html>', { status: 502 }),
    });
    render(<HomePage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('The calculator is not answering right now. Try again in a moment.');
    expect(seen().getByText('Unavailable until the API answers.')).toBeInTheDocument();
    up = true;
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await calculated().findByText('55')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('refuses an answer that does not match the contract', async () => {
    stubApi({ ...limits, 'GET /api/values': () => jsonResponse({ items: 'nope' }) });
    render(<HomePage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('The server answered in a way this page does not understand.');
  });
});
