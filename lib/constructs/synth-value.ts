import { IResolvable, IResolveContext, Token } from 'cdktf';

/**
 * A value meshx-node computes at synth from the finished mesh (a manifest, an intention's
 * sources): plain JSON that never holds a token. Cheaper than cdktf's Lazy when a mesh has
 * hundreds of them: no creation stack is captured, and the preparing pass (whose result cdktf
 * discards; it looks for references, which these never hold) gets a placeholder instead of the
 * whole value.
 */
export class SynthValue implements IResolvable {
  /** A string token for a value produced at synth. */
  public static string(produce: (context: IResolveContext) => string): string {
    return Token.asString(new SynthValue(produce, ''));
  }

  public readonly creationStack: string[] = [];

  constructor(private readonly produce: (context: IResolveContext) => unknown, private readonly placeholder: unknown) {}

  public resolve(context: IResolveContext): unknown {
    return context.preparing ? this.placeholder : this.produce(context);
  }

  public toString(): string {
    return Token.asString(this);
  }
}
