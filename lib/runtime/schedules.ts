import type { QueueClient } from '../queue/client.ts';
import { jobSchemas, jobKindOf } from '../queue/jobs.ts';

/** stack.yml's cron annotations become BullMQ job schedulers, so laptop and cluster run one schedule. */
export async function registerSchedules(queue: QueueClient, schedules: Array<{ function: string; schedule: string }>): Promise<void> {
  for (const s of schedules) {
    const data = jobSchemas[jobKindOf(s.function)].parse({});
    await queue.schedule(s.function, `cron-${s.function}`, s.schedule, data);
  }
}
