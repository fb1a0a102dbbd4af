/** Bad usage or bad input: exit 2, nothing started or registered. */
export class InputError extends Error {
  public readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** A failure at run time (agent unreachable, proxy never ready, port taken at boot): exit 1. */
export class RuntimeFailure extends Error {
  public readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeFailure';
  }
}

/** Why a request failed: the agent client's error names the request, its cause says why (ECONNREFUSED, a timeout, a TLS setting). */
export function whyFailed(e: unknown): string {
  return (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
}
