// Lambda entry point: backfill (wired in a later change).
export const handler = async (): Promise<void> => {};
