// Lambda entry point: ingest (wired in a later change).
export const handler = async (): Promise<void> => {};
