import express from 'express';

/**
 * The ceiling for the write path: Express on the same machine, parsing the same JSON body and answering
 * 202 with the same JSON, but storing and queueing nothing.
 */
const app = express();
app.post('/api/values', express.json({ limit: '16kb' }), (req, res) => {
  res.status(202).json({ index: (req.body as { index: number }).index, status: 'pending' });
});
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
// The benchmark that forked it is gone (Ctrl-C, a crash): nothing else would ever stop it.
process.on('disconnect', () => process.exit(0));
