/** Per-feature z-scoring fitted on training rows; constant features get scale 1. */
export interface StandardizerJSON {
  mean: number[];
  scale: number[];
}

export class Standardizer {
  constructor(readonly mean: Float64Array, readonly scale: Float64Array) {}

  static fit(X: readonly ArrayLike<number>[]): Standardizer {
    const d = X[0]?.length ?? 0;
    const mean = new Float64Array(d);
    const sq = new Float64Array(d);
    for (const x of X) for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) + (x[j] as number);
    for (let j = 0; j < d; j++) mean[j] = (mean[j] as number) / X.length;
    for (const x of X) for (let j = 0; j < d; j++) sq[j] = (sq[j] as number) + ((x[j] as number) - (mean[j] as number)) ** 2;
    const scale = sq.map((s) => {
      const sd = Math.sqrt(s / X.length);
      return sd > 1e-12 ? sd : 1;
    });
    return new Standardizer(mean, scale);
  }

  transform(x: ArrayLike<number>, out: Float64Array = new Float64Array(x.length)): Float64Array {
    for (let j = 0; j < x.length; j++) out[j] = ((x[j] as number) - (this.mean[j] as number)) / (this.scale[j] as number);
    return out;
  }

  toJSON(): StandardizerJSON {
    return { mean: Array.from(this.mean), scale: Array.from(this.scale) };
  }

  static fromJSON(j: StandardizerJSON): Standardizer {
    return new Standardizer(Float64Array.from(j.mean), Float64Array.from(j.scale));
  }
}
