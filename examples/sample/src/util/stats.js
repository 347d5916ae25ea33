export function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

export function stddev(values) {
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / values.length);
}
