// The demo's web service: one page showing what Steward supervises.
import { createServer } from 'node:http';
import { createWriteStream, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const port = Number(process.env.PORT ?? 8080);
const data = process.env.DEMO_DATA ?? '/tmp';
// The pids on this page are the container's (a PID namespace, as root): ask Steward by name instead.
const steward = fileURLToPath(new URL('../../bin/steward', import.meta.url));
const control = process.env.STEWARD_RUN === undefined ? steward : `STEWARD_RUN=${process.env.STEWARD_RUN} ${steward}`;

function read(name) {
  try {
    return readFileSync(`${data}/${name}`, 'utf8').trim();
  } catch {
    return 'not yet';
  }
}

const server = createServer((request, response) => {
  response.setHeader('content-type', 'text/html; charset=utf-8');
  response.end(`<!doctype html><title>Steward demo</title>
<h1>Hello from a service supervised by Steward</h1>
<ul>
<li>web server pid: ${process.pid}</li>
<li>container booted at: ${read('booted-at')}</li>
<li>worker: ${read('worker-status')}</li>
</ul>
<p>In another terminal, try <code>${control} signal KILL worker</code>: the worker comes back within a second.
<code>${control} status</code> shows it.</p>
`);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`web: listening on http://127.0.0.1:${port}/`);
  // Readiness for Steward: a newline on the notification fd (3, from the notification-fd file).
  const ready = createWriteStream('', { fd: 3 });
  ready.end('\n');
});

process.on('SIGTERM', () => {
  console.log('web: SIGTERM received, closing');
  server.close(() => process.exit(0));
});
