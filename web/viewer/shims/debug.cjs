// Stands in for the `debug` package that @looker/chatty logs through. The real one reads
// localStorage.debug at start-up, and the viewer must never touch storage; this one logs nothing.
module.exports = function debug() {
  return function log() {};
};
