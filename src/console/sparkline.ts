/** Draws lines per second as a filled line over the canvas's width, scaled to its highest second. */
export function drawSparkline(canvas: HTMLCanvasElement, series: readonly number[]): void {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth * ratio));
  const height = Math.max(1, Math.round(canvas.clientHeight * ratio));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext('2d');
  if (context === null || series.length < 2) return;
  context.clearRect(0, 0, width, height);
  const top = Math.max(1, ...series);
  const x = (i: number) => (i / (series.length - 1)) * width;
  const y = (n: number) => height - 1 - (n / top) * (height - 2);
  const colour = getComputedStyle(canvas).color;
  context.beginPath();
  context.moveTo(0, height);
  series.forEach((n, i) => context.lineTo(x(i), y(n)));
  context.lineTo(width, height);
  context.closePath();
  context.globalAlpha = 0.25;
  context.fillStyle = colour;
  context.fill();
  context.globalAlpha = 1;
  context.beginPath();
  series.forEach((n, i) => (i === 0 ? context.moveTo(x(i), y(n)) : context.lineTo(x(i), y(n))));
  context.strokeStyle = colour;
  context.lineWidth = ratio;
  context.stroke();
}
