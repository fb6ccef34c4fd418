// Work a page started that must stop when another page replaces it (event streams).

const cleanups: (() => void)[] = [];

export function onLeave(f: () => void): void {
  cleanups.push(f);
}

export function leave(): void {
  for (const f of cleanups.splice(0)) f();
}
