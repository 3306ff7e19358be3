export interface MicroBatcherOptions {
  /** Most items one flush handles. */
  maxBatch: number;
  /** Most flushes running at once (round trips in flight); more callers wait for the next batch. */
  maxInFlight: number;
}

interface Waiting<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (error: unknown) => void;
}

/**
 * Serves calls that arrive close together with one round trip each batch instead of one per call.
 * Callers `run` an item and await their own result; `flush` gets every item that arrived in the same
 * turn of the event loop, or while all `maxInFlight` flushes were busy. When the system is quiet a batch
 * holds one item and waits for nothing; under load batches grow on their own, so round trips, commits
 * and socket writes per item fall as traffic rises.
 *
 * `flush` returns one output per item, in order. If it throws, every caller in that batch gets the error.
 */
export class MicroBatcher<In, Out> {
  private readonly waiting: Array<Waiting<In, Out>> = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly flush: (items: In[]) => Promise<Out[]>,
    private readonly options: MicroBatcherOptions,
  ) {}

  run(item: In): Promise<Out> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** Dispatches on the next turn, after the callers whose I/O arrived in this one have joined. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.waiting.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      // flushBatch settles every caller itself and never rejects.
      void this.flushBatch(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async flushBatch(batch: Array<Waiting<In, Out>>): Promise<void> {
    try {
      const outputs = await this.flush(batch.map(({ item }) => item));
      if (outputs.length !== batch.length) {
        throw new Error(`a batch of ${batch.length} items was flushed with ${outputs.length} results`);
      }
      batch.forEach(({ resolve }, i) => resolve(outputs[i]!));
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }
}
