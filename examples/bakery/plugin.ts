// The bakery example's implementation, written against the Asterai host API. Built into
// a Wasm component by build.mjs (TypeScript → JavaScript → componentize-js).
import * as asterai from 'asterai:host/api@0.1.0';

type Pastry = 'croissant' | 'pain-au-chocolat' | 'cinnamon-roll' | 'sourdough-loaf';

interface Item {
  pastry: Pastry;
  priceCents: number;
  vegan: boolean;
}

interface Order {
  address: string;
  pastry: Pastry;
  quantity: number;
  note?: string;
}

interface Receipt {
  number: number;
  pastry: Pastry;
  quantity: number;
  totalCents: number;
  etaMinutes: number;
}

const today: Item[] = [
  { pastry: 'croissant', priceCents: 180, vegan: false },
  { pastry: 'pain-au-chocolat', priceCents: 210, vegan: false },
  { pastry: 'cinnamon-roll', priceCents: 290, vegan: false },
  { pastry: 'sourdough-loaf', priceCents: 520, vegan: true },
];

const euros = (cents: number): string => `€${(cents / 100).toFixed(2)}`;

/** Orders belong to the user who placed them (the caller, as toolport names it). */
function userId(): string | undefined {
  return asterai.getContext().query.userId;
}

export function menu(): Item[] {
  const lines = today.map((item) => `${item.pastry} ${euros(item.priceCents)}${item.vegan ? ' (vegan)' : ''}`);
  asterai.sendResponseToAgent(`Baked today: ${lines.join(', ')}.`);
  return today;
}

export function placeOrder(order: Order): Receipt {
  const item = today.find((candidate) => candidate.pastry === order.pastry);
  const problems: string[] = [];
  if (order.address.trim().length < 5) problems.push('give a full street address');
  if (order.quantity < 1 || order.quantity > 24) problems.push('order between 1 and 24');
  if (!item) problems.push('pick something from the menu');
  if (problems.length > 0 || !item) {
    // componentize-js returns a thrown string as the err case of result<receipt, string>.
    // eslint-disable-next-line @typescript-eslint/only-throw-error
    throw `The order was not taken.\nFallback suggestions:\n${problems.map((problem) => `- ${problem}`).join('\n')}`;
  }
  const number = Number(asterai.kvGet('last-order-number', undefined) ?? '1000') + 1;
  asterai.kvSet('last-order-number', String(number), undefined);
  const receipt: Receipt = {
    number,
    pastry: item.pastry,
    quantity: order.quantity,
    totalCents: item.priceCents * order.quantity,
    etaMinutes: 20 + 2 * order.quantity,
  };
  asterai.kvSet(`order:${number}`, JSON.stringify(receipt), userId());
  console.log(`order ${number}: ${order.quantity} x ${item.pastry} to ${order.address}${order.note ? ` (note: ${order.note})` : ''}`);
  asterai.sendResponseToAgent(
    `Order #${number} placed: ${order.quantity} × ${item.pastry} for ${euros(receipt.totalCents)}, delivered to ${order.address} in about ${receipt.etaMinutes} minutes.`,
  );
  return receipt;
}

export function orderStatus(number: number): Receipt | undefined {
  const stored = asterai.kvGet(`order:${number}`, userId());
  if (stored === undefined) {
    asterai.sendResponseToAgent(`There is no order #${number} for you.`);
    return undefined;
  }
  return JSON.parse(stored) as Receipt;
}
