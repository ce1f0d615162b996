// Lambda entry point: notify (wired in a later change).
export const handler = async (): Promise<void> => {};
