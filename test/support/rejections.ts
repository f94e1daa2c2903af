/**
 * Waiting for a program's asynchronous work, and collecting the unhandled rejections an error thrown
 * inside a Pulumi program or an `apply` causes (which would otherwise fail the test run). Free of
 * mocks, so the real-engine tier can use it too.
 */

/** Waits until every registration the program started has been recorded. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setTimeout(r, 50));
}

/**
 * Collects unhandled rejections instead of letting them fail the test run: an error thrown inside
 * an `apply` rejects every resource registration that depends on it, and nothing in the test process
 * handles those (under the CLI, the program's own process would). `stop` waits until no new one
 * arrives, then gives the test runner its own listeners back.
 */
export function collectRejections(): { rejections: unknown[]; stop(): Promise<void> } {
  const saved = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const rejections: unknown[] = [];
  const collect = (reason: unknown) => void rejections.push(reason);
  process.on("unhandledRejection", collect);
  return {
    rejections,
    async stop() {
      let seen = -1;
      while (seen !== rejections.length) {
        seen = rejections.length;
        await settle();
      }
      process.removeListener("unhandledRejection", collect);
      for (const listener of saved) process.on("unhandledRejection", listener);
    },
  };
}

/** Runs `body` while unhandled rejections are collected (see {@link collectRejections}). */
export async function collectingRejections(body: () => Promise<void>): Promise<unknown[]> {
  const collector = collectRejections();
  try {
    await body();
  } finally {
    await collector.stop();
  }
  return collector.rejections;
}
