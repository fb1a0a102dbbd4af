import { Testing, TerraformOutput, TerraformStack, Tokenization, DefaultTokenResolver, StringConcat } from 'cdktf';
import { SynthValue } from '../../lib/constructs/synth-value';

describe('SynthValue', () => {
  test('the final pass gets the value, the preparing pass the placeholder (never producing it)', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    let produced = 0;
    const token = SynthValue.string(() => `value ${++produced}`);
    const resolver = new DefaultTokenResolver(new StringConcat());
    const resolve = (preparing: boolean) => Tokenization.resolve(token, { scope: stack, preparing, resolver });
    expect(resolve(true)).toBe('');
    expect(produced).toBe(0);
    expect(resolve(false)).toBe('value 1');
  });

  test('in a synthesized stack: the produced value, computed after the stack was built', () => {
    const stack = new TerraformStack(Testing.app(), 'test');
    const parts: string[] = [];
    new TerraformOutput(stack, 'Out', { value: SynthValue.string(() => parts.join(',')) });
    parts.push('a', 'b');
    expect(JSON.parse(Testing.synth(stack)).output.Out.value).toBe('a,b');
  });

  test('captures no creation stack (hundreds of them in a large mesh)', () => {
    expect(new SynthValue(() => 1, 0).creationStack).toEqual([]);
  });
});
