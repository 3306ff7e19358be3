import { act, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeEventSource, installFakeEventSource, jsonResponse, stubApi } from '../../testing/fake-api';
import { HomePage } from './HomePage';

const at = '2026-11-24T10:00:00.000Z';

function item(id: number, index: number, value?: string) {
  return value === undefined
    ? { id: String(id), index, status: 'pending', submittedAt: at }
    : { id: String(id), index, status: 'done', submittedAt: at, value, digits: value.length, truncated: false };
}

const calculated = () => within(screen.getByRole('region', { name: 'Calculated values' }));
const seen = () => within(screen.getByRole('region', { name: 'Indexes I have seen' }));

beforeEach(() => installFakeEventSource());

describe('HomePage', () => {
  it('lists submissions and values, pending ones as pending', async () => {
    stubApi({ 'GET /api/values': () => jsonResponse({ items: [item(3, 7), item(2, 10, '55'), item(1, 10, '55')], nextCursor: null }) });
    render(<HomePage />);
    expect(await calculated().findByText('55')).toBeInTheDocument();
    expect(calculated().getByText('pending…')).toBeInTheDocument();
    expect(seen().getAllByRole('listitem').map((li) => li.textContent)).toEqual(['7', '10', '10']);
    expect(calculated().getAllByRole('listitem')).toHaveLength(2);
  });

  it('fills in a value live when its result event arrives', async () => {
    stubApi({ 'GET /api/values': () => jsonResponse({ items: [item(1, 7)], nextCursor: null }) });
    render(<HomePage />);
    await calculated().findByText('pending…');
    act(() =>
      FakeEventSource.last!.emit('result', { index: 7, value: '13', digits: 2, truncated: false, computeMs: 0.1, computedAt: at }),
    );
    expect(calculated().getByText('13')).toBeInTheDocument();
    expect(calculated().queryByText('pending…')).toBeNull();
    expect(screen.getByText('Fibonacci(7) = 13')).toBeInTheDocument();
  });

  it('links a shortened value to its detail page with the digit count', async () => {
    const preview = `${'1'.repeat(60)}…`;
    stubApi({
      'GET /api/values': () =>
        jsonResponse({
          items: [{ id: '1', index: 500, status: 'done', submittedAt: at, value: preview, digits: 105, truncated: true }],
          nextCursor: null,
        }),
    });
    render(<HomePage />);
    expect(await calculated().findByRole('link', { name: '(105 digits, see all)' })).toHaveAttribute('href', '/values/500');
  });

  it('fetches the first page again when the stream opens while a value is pending', async () => {
    let value: string | undefined;
    const calls = stubApi({ 'GET /api/values': () => jsonResponse({ items: [item(1, 7, value)], nextCursor: null }) });
    render(<HomePage />);
    await calculated().findByText('pending…');
    // Computed after the first page was read but before the stream was listening: no event comes.
    value = '13';
    act(() => FakeEventSource.last!.emit('open'));
    expect(await calculated().findByText('13')).toBeInTheDocument();
    expect(calls).toEqual(['GET /api/values', 'GET /api/values']);
  });

  it('fetches again after the stream comes back, but not on a first open with nothing pending', async () => {
    const calls = stubApi({ 'GET /api/values': () => jsonResponse({ items: [item(1, 10, '55')], nextCursor: null }) });
    render(<HomePage />);
    await calculated().findByText('55');
    act(() => FakeEventSource.last!.emit('open'));
    expect(calls).toEqual(['GET /api/values']);
    act(() => {
      FakeEventSource.last!.emit('error');
      FakeEventSource.last!.emit('open');
    });
    await waitFor(() => expect(calls).toEqual(['GET /api/values', 'GET /api/values']));
    expect(calculated().getByText('55')).toBeInTheDocument();
  });

  it('shows a new submission at once', async () => {
    stubApi({
      'GET /api/values': () => jsonResponse({ items: [], nextCursor: null }),
      'POST /api/values': () => jsonResponse({ index: 12, status: 'done', value: '144', digits: 3, truncated: false }),
    });
    render(<HomePage />);
    await screen.findByText('Nothing submitted yet.');
    await userEvent.type(screen.getByRole('textbox', { name: 'Index' }), '12');
    await userEvent.click(screen.getByRole('button', { name: 'Calculate' }));
    expect(await calculated().findByText('144')).toBeInTheDocument();
    expect(seen().getByText('12')).toBeInTheDocument();
    expect(screen.getByText('Fibonacci(12) = 144')).toBeInTheDocument();
  });

  it('shows a pending submission at once and its value when the result event arrives', async () => {
    stubApi({
      'GET /api/values': () => jsonResponse({ items: [], nextCursor: null }),
      'POST /api/values': () => jsonResponse({ index: 10, status: 'pending' }, 202),
    });
    render(<HomePage />);
    await screen.findByText('Nothing submitted yet.');
    await userEvent.type(screen.getByRole('textbox', { name: 'Index' }), '10');
    await userEvent.click(screen.getByRole('button', { name: 'Calculate' }));
    expect(await calculated().findByText('pending…')).toBeInTheDocument();
    act(() =>
      FakeEventSource.last!.emit('result', { index: 10, value: '55', digits: 2, truncated: false, computeMs: 0.1, computedAt: at }),
    );
    expect(calculated().getByText('55')).toBeInTheDocument();
    expect(seen().getAllByRole('listitem').map((li) => li.textContent)).toEqual(['10']);
  });

  it('loads older submissions with the cursor', async () => {
    stubApi({
      'GET /api/values': () => jsonResponse({ items: [item(2, 20, '6765')], nextCursor: '2' }),
      'GET /api/values?cursor=2': () => jsonResponse({ items: [item(1, 21, '10946')], nextCursor: null }),
    });
    render(<HomePage />);
    await userEvent.click(await screen.findByRole('button', { name: 'Load more' }));
    expect(await calculated().findByText('10946')).toBeInTheDocument();
    expect(seen().getAllByRole('listitem').map((li) => li.textContent)).toEqual(['20', '21']);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('shows an error banner with Retry when the API is down, and recovers', async () => {
    let up = false;
    stubApi({
      'GET /api/values': () =>
        up ? jsonResponse({ items: [item(1, 10, '55')], nextCursor: null }) : new Response('<html>502</html>', { status: 502 }),
    });
    render(<HomePage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('The API is unavailable (HTTP 502)');
    expect(seen().getByText('Unavailable until the API answers.')).toBeInTheDocument();
    up = true;
    await userEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(await calculated().findByText('55')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('refuses an answer that does not match the contract', async () => {
    stubApi({ 'GET /api/values': () => jsonResponse({ items: 'nope' }) });
    render(<HomePage />);
    expect(await screen.findByRole('alert')).toHaveTextContent('unexpected format');
  });
});
