/**
 * The main components for Builder.io's visual editor, in the shape its Gen-2 React SDK takes
 * (`<Content customComponents={builderComponents} … />`, or `register` in Fusion). Plain data: the SDK
 * is not a dependency (see BUILDER.md — @builder.io/sdk-react pulls in isolated-vm, a native module
 * that needs Node 22), nothing here calls Builder's service, and the app's bundle never imports this
 * file (only the visual editor's entry would).
 */
import type { ComponentType } from 'react';
import { Alert } from './components/Alert.tsx';
import { Button } from './components/Button.tsx';
import { Card } from './components/Card.tsx';
import { DrawdownMeter } from './components/DrawdownMeter.tsx';
import { ModeBadge } from './components/ModeBadge.tsx';
import { Percent } from './components/Percent.tsx';
import { SelectField } from './components/SelectField.tsx';
import { TextField } from './components/TextField.tsx';
import { Time } from './components/Time.tsx';
import { TradingStateBadge } from './components/TradingStateBadge.tsx';

/** Builder's input descriptor (the subset used here). */
export interface BuilderInput {
  name: string;
  type: 'string' | 'number' | 'boolean' | 'date' | 'list' | 'richText';
  enum?: readonly string[];
  defaultValue?: unknown;
  required?: boolean;
  helperText?: string;
}

export interface BuilderComponent {
  name: string;
  // Builder passes the inputs as props; each component's own props type is checked where it is used.
  component: ComponentType<never>;
  inputs: readonly BuilderInput[];
  canHaveChildren?: boolean;
}

export const builderComponents: readonly BuilderComponent[] = [
  { name: 'Aether Card', component: Card, canHaveChildren: true, inputs: [{ name: 'title', type: 'string', helperText: 'Heading (h2) and accessible name' }] },
  { name: 'Aether Button', component: Button, inputs: [{ name: 'variant', type: 'string', enum: ['primary', 'secondary', 'danger'], defaultValue: 'primary' }, { name: 'children', type: 'string', required: true }, { name: 'disabled', type: 'boolean' }] },
  { name: 'Aether Alert', component: Alert, inputs: [{ name: 'kind', type: 'string', enum: ['info', 'warning', 'error'], defaultValue: 'info' }, { name: 'children', type: 'string', required: true }] },
  { name: 'Aether ModeBadge', component: ModeBadge, inputs: [{ name: 'mode', type: 'string', enum: ['simulation', 'live'], required: true }] },
  { name: 'Aether TradingStateBadge', component: TradingStateBadge, inputs: [{ name: 'state', type: 'string', enum: ['ACTIVE', 'REDUCING', 'HALTED'], required: true }] },
  { name: 'Aether Percent', component: Percent, inputs: [{ name: 'value', type: 'number', helperText: 'A fraction: 0.01 = 1 %' }, { name: 'signed', type: 'boolean' }] },
  { name: 'Aether Time', component: Time, inputs: [{ name: 'iso', type: 'date', required: true }] },
  { name: 'Aether DrawdownMeter', component: DrawdownMeter, inputs: [{ name: 'daily', type: 'number' }, { name: 'softLimit', type: 'number', defaultValue: 0.03 }, { name: 'hardLimit', type: 'number', defaultValue: 0.05 }] },
  { name: 'Aether TextField', component: TextField, inputs: [{ name: 'label', type: 'string', required: true }, { name: 'hint', type: 'string' }] },
  { name: 'Aether SelectField', component: SelectField, inputs: [{ name: 'label', type: 'string', required: true }, { name: 'options', type: 'list' }] },
];
