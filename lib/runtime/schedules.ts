import type { QueueClient } from '../queue/client.ts';
import { jobSchemas, jobKindOf } from '../queue/jobs.ts';

/**
 * Queues of earlier versions that nothing consumes any more: `hedge` (now a phase of the order job;
 * its cron ran at :15). A scheduler left on one would add a job every hour that never runs.
 */
export const RETIRED_QUEUES = ['hedge'] as const;

/**
 * stack.yml's cron annotations become BullMQ job schedulers, so laptop and cluster run one schedule.
 * A cron function's name is its queue (tick, report, train); a schedule on any other name is refused.
 * Schedulers and jobs of retired queues are removed, so an upgraded installation stops feeding them.
 */
export async function registerSchedules(queue: QueueClient, schedules: Array<{ function: string; schedule: string }>): Promise<void> {
  const wanted = schedules.map((s) => ({ ...s, data: jobSchemas[jobKindOf(s.function)].parse({}) }));
  for (const name of RETIRED_QUEUES) {
    const q = queue.queue(name);
    if ((await q.getJobSchedulersCount()) > 0 || Object.values(await q.getJobCounts()).some((n) => n > 0)) await q.obliterate({ force: true });
  }
  for (const s of wanted) await queue.schedule(s.function, `cron-${s.function}`, s.schedule, s.data);
}
