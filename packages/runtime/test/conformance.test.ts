import { describe, expect, it } from '@jest/globals';
import { checkConformance, compareOutputs, conformanceCases } from '../src/conformance/index.js';
import { simpleMapping, type Mapping } from '@d4/core';

describe('conformance kit', () => {
  it('passes for simple on every case', async () => {
    const outcomes = await checkConformance(simpleMapping);
    expect(outcomes).toHaveLength(conformanceCases.length);
    expect(outcomes.find((o) => o.case.name === 'globalSum')?.actual.outputs).toEqual({ GlobalSum2: { output: [5050] } });
  });

  it('reports what a mapping lost or added', async () => {
    expect(compareOutputs({ A: { output: [1, 2, 2] } }, { A: { output: [2, 3] } })).toEqual(['A.output: missing 1, 2', 'A.output: unexpected 3']);
    expect(compareOutputs({ A: { output: [4] } }, { A: { output: [4, 4, 4] } }, 'set')).toEqual([]);
    const lossy: Mapping = {
      ...simpleMapping,
      name: 'lossy',
      async run(workflow, inputs, options) {
        const result = await simpleMapping.run(workflow, inputs, options);
        for (const ports of Object.values(result.outputs)) for (const values of Object.values(ports)) values.pop();
        return result;
      },
    };
    await expect(checkConformance(lossy, {}, conformanceCases.slice(0, 1))).rejects.toThrow(/pipeline on lossy:\n  Identity5.output: missing 200/);
  });
});
