import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { SubmitResponse } from '@fibstack/contract/values';
import { explain, explainCode, type Explanation } from '../../lib/error-messages';
import { useLimits } from '../../lib/limits';
import { forgetTypedBeforeStart, typedBeforeStart } from '../../lib/static-shell';
import { submitIndex } from './api';
import { parseIndexInput } from './parse-index-input';

/** A failure to show; each attempt gets a new id, so the same message is announced again. */
type Failure = Explanation & { id: number };

let attempts = 0;

/**
 * The index form: checks the input with the contract's rules and the server's limits, sends it, and
 * explains what went wrong: a broken rule on the field, anything else (the API down, too many
 * requests) for the form, since retrying the same index may then work.
 */
export function SubmitForm({ onSubmitted }: { onSubmitted: (response: SubmitResponse) => void }) {
  const [text, setText] = useState(() => typedBeforeStart().text);
  const [failure, setFailure] = useState<Failure>();
  const [sending, setSending] = useState(false);
  const limits = useLimits();
  const input = useRef<HTMLInputElement>(null);
  /** Typed into since the last submission was sent: that text is the next index, even if it is the same. */
  const edited = useRef(false);
  const errorId = useId();
  const hintId = useId();

  useEffect(() => {
    if (typedBeforeStart().focused) input.current?.focus();
    forgetTypedBeforeStart();
  }, []);

  const fail = (explanation: Explanation) => setFailure({ ...explanation, id: ++attempts });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (sending) return;
    const checked = parseIndexInput(text, limits?.maxIndex);
    if (!checked.ok) {
      fail(explainCode(checked.code, limits));
      input.current?.focus();
      return;
    }
    setSending(true);
    setFailure(undefined);
    edited.current = false;
    try {
      onSubmitted(await submitIndex(checked.index));
      // Whatever was typed while the request was out is the next index: keep it.
      if (!edited.current) setText('');
    } catch (error) {
      fail(explain(error, limits));
    } finally {
      setSending(false);
      input.current?.focus();
    }
  };

  const fieldError = failure?.field ? failure : undefined;
  const formError = failure && !failure.field ? failure : undefined;

  return (
    <form className="submit-form" onSubmit={(event) => void submit(event)} noValidate>
      <label htmlFor="index-input">Index</label>
      <div className="submit-row">
        <input
          id="index-input"
          ref={input}
          name="index"
          inputMode="numeric"
          autoComplete="off"
          value={text}
          onChange={(event) => {
            edited.current = true;
            setText(event.target.value);
          }}
          aria-invalid={fieldError ? true : undefined}
          aria-describedby={fieldError ? `${errorId} ${hintId}` : hintId}
        />
        <button type="submit" disabled={sending}>
          {sending ? 'Sending…' : 'Calculate'}
        </button>
      </div>
      <p id={hintId} className="hint">
        {limits ? `A whole number from 0 to ${limits.maxIndex.toLocaleString('en')}.` : 'A whole number, 0 or more.'}
      </p>
      {fieldError && (
        <p key={fieldError.id} id={errorId} role="alert" className="field-error">
          {fieldError.text}
        </p>
      )}
      {formError && (
        <p key={formError.id} role="alert" className="banner">
          {formError.text}
        </p>
      )}
    </form>
  );
}
