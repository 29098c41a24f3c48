// The demo's worker: does a "job" every two seconds and records its progress.
import { writeFileSync } from 'node:fs';

const data = process.env.DEMO_DATA ?? '/tmp';
let jobs = 0;
writeFileSync(`${data}/worker-pid`, String(process.pid));

const timer = setInterval(() => {
  jobs++;
  const status = `pid ${process.pid}, ${jobs} jobs done`;
  writeFileSync(`${data}/worker-status`, status);
  if (jobs % 5 === 0) console.log(`worker: ${status}`);
}, 2000);

process.on('SIGTERM', () => {
  clearInterval(timer);
  console.log(`worker: SIGTERM received after ${jobs} jobs, exiting`);
  process.exit(0);
});
