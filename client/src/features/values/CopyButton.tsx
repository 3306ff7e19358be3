import { useState } from 'react';

/** Copies `text` to the clipboard and says whether that worked (it needs a secure context). */
export function CopyButton({ text }: { text: string }) {
  const [feedback, setFeedback] = useState('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setFeedback('Copied');
    } catch {
      setFeedback('Copying is not available here; select the number and copy it instead.');
    }
  };
  return (
    <span className="copy">
      <button type="button" onClick={() => void copy()}>
        Copy
      </button>
      <span role="status" className="copy-feedback">
        {feedback}
      </span>
    </span>
  );
}
