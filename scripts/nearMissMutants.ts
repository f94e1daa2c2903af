/**
 * Near-miss mutants, the two kinds Stryker's operators do not make: a number one more or one less
 * (a bound shifted by one) and an array without one of its members (a list missing a name). They
 * are found with the TypeScript compiler's parser, so a number in a type, a comment or a string is
 * not one.
 */
import ts from "typescript";
import { Mutant, SourcePosition } from "./mutantSample";

/** Every near-miss mutant of one source file (`file` is the path reports name it by). */
export function nearMissMutants(file: string, source: string): Mutant[] {
  const parsed = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const at = (offset: number): SourcePosition => {
    const { line, character } = parsed.getLineAndCharacterOfPosition(offset);
    return { line, column: character };
  };
  const mutants: Mutant[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isLiteralTypeNode(node)) return;
    if (ts.isNumericLiteral(node)) {
      const value = Number(node.text.replace(/_/g, ""));
      if (!Number.isFinite(value)) return;
      const start = at(node.getStart(parsed));
      const end = at(node.getEnd());
      for (const shifted of [value + 1, value - 1]) {
        // A negative number is written with a unary minus; a literal cannot hold one.
        const replacement = shifted < 0 ? `(${shifted})` : String(shifted);
        mutants.push({ file, mutator: "NumberShift", replacement, start, end });
      }
    }
    if (ts.isArrayLiteralExpression(node) && node.elements.length >= 2) {
      const members = node.elements.map((e) => e.getText(parsed));
      const start = at(node.getStart(parsed));
      const end = at(node.getEnd());
      for (let i = 0; i < members.length; i++) {
        const rest = members.filter((_, j) => j !== i);
        mutants.push({ file, mutator: "ArrayMember", replacement: `[${rest.join(", ")}]`, start, end });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(parsed);
  return mutants;
}
