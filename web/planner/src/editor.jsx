// The decision-table editor of the planner's rule page. The page's own script (web/static/planner-editor.js)
// imports this module lazily and calls mount(); nothing else on the site loads it.
import "@gorules/jdm-editor/dist/style.css";
import { DecisionGraph, JdmConfigProvider, nodeSpecification } from "@gorules/jdm-editor";
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";

// Planners get no code execution: "Function" nodes run JavaScript. The palette lists every entry of this
// object, so removing the entry hides the node; the server refuses any that still arrive (e.g. pasted).
delete nodeSpecification.functionNode;

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
