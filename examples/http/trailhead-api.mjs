// An example Carter plugin API: trail conditions for a fictional park, with deterministic
// data, the secret-token check Carter asks for, and per-user state keyed on the
// relationship_token. It serves its own manifest at /carterplugin.json (without a check).
//
//   TRAILHEAD_SECRET=s3cret node examples/http/trailhead-api.mjs [--port 8810] [--host 127.0.0.1]
//
// --stop-with-stdin: exit when stdin closes (a launcher holds it open, so the API cannot
// outlive the launcher, however that ends).
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8810' },
    host: { type: 'string', default: '127.0.0.1' },
    'stop-with-stdin': { type: 'boolean', default: false },
  },
});
const secret = process.env.TRAILHEAD_SECRET;
if (!secret) {
  process.stderr.write('trailhead: set TRAILHEAD_SECRET to the secret token toolport will send\n');
  process.exit(2);
}
const manifest = JSON.parse(readFileSync(new URL('./trailhead.json', import.meta.url), 'utf8'));

const trails = {
  ridge_loop: { name: 'Ridge Loop', open: true, length_km: 11.2, elevation_gain_m: 640, dogs_allowed: true, note: 'Exposed on the ridge; bring a layer.' },
  lakeshore: { name: 'Lakeshore Path', open: true, length_km: 4.8, elevation_gain_m: 60, dogs_allowed: true, note: 'Flat and shaded; busy at weekends.' },
  cedar_falls: { name: 'Cedar Falls Trail', open: false, length_km: 7.5, elevation_gain_m: 420, dogs_allowed: false, note: 'Closed for bridge repairs.' },
  summit_push: { name: 'Summit Push', open: true, length_km: 16.3, elevation_gain_m: 1480, dogs_allowed: false, note: 'Steep scree above the tree line.' },
};

/** Favourite trail per relationship_token: the token is how a Carter plugin tells users apart. */
const favourites = new Map();

const digest = (value) => createHash('sha256').update(value).digest();
const secretDigest = digest(secret);

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function unknownTrail(id) {
  return {
    success: false,
    error: `No trail called "${id}".\nFallback suggestions:\n- call list_trails for the trail ids\n- check the spelling`,
  };
}

/** Naismith's rule: 5 km per hour, plus an hour per 600 m of climb. */
function estimateHours(trail) {
  return Math.round((trail.length_km / 5 + trail.elevation_gain_m / 600) * 10) / 10;
}

const routes = {
  '/trails': () => ({
    success: true,
    data: {
      trails: Object.fromEntries(Object.entries(trails).map(([id, trail]) => [id, trail.name])),
      open_count: Object.values(trails).filter((trail) => trail.open).length,
    },
  }),
  '/report': ({ data }) => {
    const trail = trails[data.trail];
    return trail ? { success: true, data: trail } : unknownTrail(data.trail);
  },
  '/plan': ({ data }) => {
    const trail = trails[data.trail];
    if (!trail) return unknownTrail(data.trail);
    if (!trail.open) {
      return {
        success: false,
        error: `${trail.name} is closed today. ${trail.note}`,
        forced_response: `${trail.name} is closed today for bridge repairs. Lakeshore Path is open and a lovely alternative.`,
      };
    }
    const estimated = estimateHours(trail);
    const fits = estimated <= data.hours_available;
    let advice = fits ? 'Plenty of time; enjoy the views.' : `You need about ${estimated} h; pick a shorter trail or start early.`;
    if (data.with_dog === true && !trail.dogs_allowed) advice = `Dogs are not allowed on ${trail.name}. ${advice}`;
    return { success: true, data: { estimated_hours: estimated, fits, advice } };
  },
  '/favourite': ({ relationship_token: who, data }) => {
    if (data.trail !== undefined) {
      if (!trails[data.trail]) return unknownTrail(data.trail);
      favourites.set(who, data.trail);
      return { success: true, data: { favourite: data.trail, saved: true } };
    }
    return { success: true, data: { favourite: favourites.get(who) ?? 'none', saved: false } };
  },
};

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/carterplugin.json') {
    const { port } = server.address();
    return send(res, 200, { ...manifest, api: { ...manifest.api, base_url: `http://${values.host}:${port}/api` } });
  }
  const route = url.pathname.startsWith('/api/') ? routes[url.pathname.slice(4)] : undefined;
  if (!route) return send(res, 404, { detail: 'Not Found' });
  const presented = req.headers['x-carter-plugin-secret-token'];
  if (typeof presented !== 'string') return send(res, 401, { detail: 'Missing secret token' });
  if (!timingSafeEqual(digest(presented), secretDigest)) return send(res, 403, { detail: 'Invalid secret token' });

  let raw = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    raw += chunk;
    if (raw.length > 64 * 1024) req.destroy();
  });
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(raw);
    } catch {
      return send(res, 400, { success: false, error: 'The request body is not JSON.' });
    }
    if (typeof body?.relationship_token !== 'string' || typeof body.data !== 'object' || body.data === null) {
      return send(res, 400, { success: false, error: 'Expected { relationship_token, data }.' });
    }
    return send(res, 200, route(body));
  });
  return undefined;
});

// A port in use is one line and exit code 3 (the launcher then asks for a free port).
server.once('error', (error) => {
  if (error.code !== 'EADDRINUSE') throw error;
  process.stderr.write(`trailhead: port ${values.port} on ${values.host} is in use\n`);
  process.exit(3);
});
server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`trailhead API listening http://${values.host}:${server.address().port}\n`);
});
function stop() {
  server.closeAllConnections();
  server.close(() => process.exit(0));
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, stop);
if (values['stop-with-stdin']) {
  process.stdin.once('close', stop);
  process.stdin.resume();
}
