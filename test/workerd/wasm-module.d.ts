/** A `.wasm` import inside a Worker: workerd hands over the module it compiled ("CompiledWasm"). */
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
