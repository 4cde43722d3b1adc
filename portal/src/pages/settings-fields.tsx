// The settings keys a model provider understands, as text inputs; empty ones are left out.
import { Field } from '../components';
import type { ModelProviderDescription } from '../catalog';

export function settingsOf(values: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value.trim() !== ''));
}

export function SettingsFields({
  entry,
  values,
  onChange,
  errors,
  idPrefix,
}: {
  entry: ModelProviderDescription;
  values: Readonly<Record<string, string>>;
  onChange: (key: string, value: string) => void;
  errors: Readonly<Record<string, string>>;
  idPrefix: string;
}) {
  if (entry.settingsKeys.length === 0) return null;
  return (
    <fieldset>
      <legend>Settings</legend>
      {errors.settings ? (
        <p className="error" role="alert">
          {errors.settings}
        </p>
      ) : null}
      {entry.settingsKeys.map((setting) => (
        <Field
          key={setting.key}
          id={`${idPrefix}-settings.${setting.key}`}
          label={setting.key}
          value={values[setting.key] ?? ''}
          onChange={(value) => onChange(setting.key, value)}
          error={errors[`settings.${setting.key}`]}
          description={setting.description}
          required={setting.required}
        />
      ))}
    </fieldset>
  );
}
