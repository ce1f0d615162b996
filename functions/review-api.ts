// Lambda entry point: review-api (wired in a later change).
export const handler = async (): Promise<void> => {};
