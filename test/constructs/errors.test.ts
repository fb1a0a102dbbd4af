import { fail } from '../../lib/constructs/errors';
import { newStack } from '../util';

describe('synth-time errors', () => {
  test('name the construct path', () => {
    expect(() => fail(newStack(), 'bad prop')).toThrow(new Error('[test] bad prop'));
  });
});
