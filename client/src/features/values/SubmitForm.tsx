import { useId, useRef, useState, type FormEvent } from 'react';
import { DEFAULT_MAX_INDEX, type SubmitResponse } from '@fibstack/contract/values';
import { ApiRequestError } from '../../lib/http';
import { submitIndex } from './api';
import { parseIndexInput } from './parse-index-input';

/** The index form: checks the input with the contract's rules, sends it, and shows either error inline. */
export function SubmitForm({ onSubmitted }: { onSubmitted: (response: SubmitResponse) => void }) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string>();
  const [sending, setSending] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const errorId = useId();
  const hintId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (sending) return;
    const checked = parseIndexInput(text);
    if (!checked.ok) {
      setError(checked.message);
      input.current?.focus();
      return;
    }
    setSending(true);
    setError(undefined);
    try {
      onSubmitted(await submitIndex(checked.index));
      // Whatever was typed while the request was out is the next index: keep it.
      setText((current) => (current === text ? '' : current));
    } catch (failure) {
      setError(failure instanceof ApiRequestError ? failure.message : 'The index could not be sent. Try again.');
    } finally {
      setSending(false);
      input.current?.focus();
    }
  };

  return (
    <form className="submit-form" onSubmit={submit} noValidate>
      <label htmlFor="index-input">Index</label>
      <div className="submit-row">
        <input
          id="index-input"
          ref={input}
          name="index"
          inputMode="numeric"
          autoComplete="off"
          value={text}
          onChange={(event) => setText(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${errorId} ${hintId}` : hintId}
        />
        <button type="submit" disabled={sending}>
          {sending ? 'Sending…' : 'Calculate'}
        </button>
      </div>
      <p id={hintId} className="hint">
        A whole number from 0 to {DEFAULT_MAX_INDEX.toLocaleString('en')}.
      </p>
      {error && (
        <p id={errorId} role="alert" className="field-error">
          {error}
        </p>
      )}
    </form>
  );
}
