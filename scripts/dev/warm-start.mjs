// Started by hot-restart.mjs ahead of need, as the next process of a service: it loads the service's npm
// dependencies now (most of a start's time, and no source edit changes them), then waits. On "go" it
// imports the entry, whose imports of those dependencies are then already done. Workspace packages are
// not loaded here: they are what edits change. ("go" is sent only after "warm": a message that arrives
// before a process listens for messages is lost.)
//   node --conditions=development --import tsx warm-start.mjs <entry> <dependency>...
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [entry, ...dependencies] = process.argv.slice(2);
const go = new Promise((resolveGo) => process.once('message', (message) => message === 'go' && resolveGo()));
for (const name of dependencies) await import(name).catch(() => undefined);
process.send('warm');
await go;
await import(pathToFileURL(resolve(entry)).href);
process.send('started');
