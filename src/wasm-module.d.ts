/**
 * A `.wasm` import as workerd, wrangler and bundlers configured for it resolve one: the module
 * compiled ahead of time (workerd's "CompiledWasm" module type), not its bytes.
 */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
