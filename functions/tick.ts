// Lambda entry point: tick (wired in a later change).
export const handler = async (): Promise<void> => {};
