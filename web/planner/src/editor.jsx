// The decision-table editor of the planner's rule page. The page's own script (web/static/planner-editor.js)
// imports this module lazily and calls mount(); nothing else on the site loads it.
import "@gorules/jdm-editor/dist/style.css";
import { DecisionGraph, JdmConfigProvider, nodeSpecification } from "@gorules/jdm-editor";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";

// The palette lists every entry of this object, so removing an entry hides the node. Planners get no code
// execution ("Function" nodes run JavaScript), and the server evaluates decision tables between the input
// and the output only (suggestions/jdm.py SUPPORTED_NODES): offer nothing it would refuse on publish. The
// server still refuses any that arrive anyway (e.g. pasted or uploaded JSON).
const SUPPORTED_NODES = new Set(["inputNode", "outputNode", "decisionTableNode"]);
for (const kind of Object.keys(nodeSpecification)) {
  if (!SUPPORTED_NODES.has(kind)) delete nodeSpecification[kind];
}

export const FUNCTION_NODE = "functionNode";

function Editor({ initial, onChange, registerSetter }) {
  const [value, setValue] = useState(initial);
  registerSetter(setValue);
  return (
    <JdmConfigProvider>
      <DecisionGraph
        value={value}
        // Show the whole graph at first, not whatever part fits the default zoom.
        onReactFlowInit={(flow) => setTimeout(() => flow.fitView({ padding: 0.2 }), 0)}
        onChange={(next) => {
          setValue(next);
          onChange(next);
        }}
      />
    </JdmConfigProvider>
  );
}

/** Mount the editor in `el` with `value` (a JDM object); `onChange(jdm)` on every edit. Returns a handle. */
export function mount(el, { value, onChange }) {
  const root = createRoot(el);
  let setter = () => {};
  root.render(
    <StrictMode>
      <Editor initial={value} onChange={onChange} registerSetter={(fn) => (setter = fn)} />
    </StrictMode>,
  );
  return {
    /** Replace the whole graph (loading another version). */
    setValue: (next) => setter(next),
    unmount: () => root.unmount(),
  };
}
