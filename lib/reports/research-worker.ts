/** A research worker thread: the context arrives once as workerData, then one task per message. */
import { parentPort, workerData } from 'node:worker_threads';
import { runResearchTask, type ResearchContext, type ResearchTask } from './research-tasks.ts';

const ctx = workerData as ResearchContext;
const port = parentPort;
if (!port) throw new Error('research-worker.ts runs in a worker thread');
port.on('message', (task: ResearchTask) => {
  runResearchTask(ctx, task).then(
    (result) => port.postMessage({ ok: true, result }),
    (err: Error) => port.postMessage({ ok: false, error: err.stack ?? String(err) }),
  );
});
