// Waiting in tests: for a peer to notice a connection, for a clock to move on, or as a fake's latency.
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
