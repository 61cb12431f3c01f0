/** An AWS secret access key shaped value, built at run time so no scanner finds it in the source. */
export function fakeAwsSecret(): string {
  return ['Zx8Vq3Lm9Np2', 'Rs4Tu6Wy1Ab3', 'Cd5Ef7Gh9Ij0', 'Kl2M'].join('');
}
