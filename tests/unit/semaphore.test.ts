import * as assert from "assert";
import { Semaphore } from "../../provider/transport/semaphore";

describe("Semaphore", () => {
  it("never lets more than its capacity run, and serves waiters in order", async () => {
    const sem = new Semaphore(3);
    let running = 0, peak = 0;
    const order: number[] = [];
    await Promise.all(Array.from({ length: 10 }, async (_, i) => {
      const release = await sem.acquire();
      order.push(i);
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      release();
      release(); // a second release must not free a second slot
    }));
    assert.strictEqual(peak, 3);
    assert.deepStrictEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.strictEqual(sem.inUse, 0);
  });
});
