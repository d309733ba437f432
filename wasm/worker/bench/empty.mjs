// The JavaScript floor of the edge-worker benchmark: a worker that answers
// 204 at once. Requests through it measure workerd and the loopback client
// alone. Never deployed.
export default {
  fetch() {
    return new Response(null, { status: 204 });
  },
};
