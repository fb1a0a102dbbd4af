import { handleSignals } from '../../lib/cli/signals';

describe('signal handling of the run command', () => {
  const target = () => {
    const calls: string[] = [];
    return { calls, stop: (sig: NodeJS.Signals) => void calls.push(`stop ${sig}`), kill: () => void calls.push('kill') };
  };

  test.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as NodeJS.Signals[])('%s stops cleanly', (sig) => {
    const t = target();
    const detach = handleSignals(t);
    try {
      process.emit(sig, sig);
      expect(t.calls).toEqual([`stop ${sig}`]);
    } finally {
      detach();
    }
  });

  test('a second SIGTERM escalates to kill; a SIGHUP after a stop does not', () => {
    const t = target();
    const detach = handleSignals(t);
    try {
      process.emit('SIGTERM', 'SIGTERM');
      process.emit('SIGHUP', 'SIGHUP');
      expect(t.calls).toEqual(['stop SIGTERM']);
      process.emit('SIGTERM', 'SIGTERM');
      expect(t.calls).toEqual(['stop SIGTERM', 'kill']);
    } finally {
      detach();
    }
  });

  test('interactive: SIGINT is left to the BEAM on the terminal', () => {
    const t = target();
    const detach = handleSignals(t, { interactive: true });
    try {
      process.emit('SIGINT', 'SIGINT');
      expect(t.calls).toEqual([]);
    } finally {
      detach();
    }
  });

  test('detach removes the handlers', () => {
    const before = process.listenerCount('SIGHUP');
    const detach = handleSignals(target());
    expect(process.listenerCount('SIGHUP')).toBe(before + 1);
    detach();
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });
});
