import { useState } from 'preact/hooks';
import { AppPicker } from './appPicker';
import { LogConsole } from './logConsole';
import { Refusal } from './refusal';
import { forgetToken, saveToken, savedToken } from './session';
import { SignInForm } from './signInForm';

/** Signed out → sign in; signed in → pick an app; an app → its log. */
export function App({ initialApp }: { readonly initialApp?: string }) {
  const [token, setToken] = useState<string | undefined>(savedToken());
  const [app, setApp] = useState<string | undefined>(initialApp);
  const [refusal, setRefusal] = useState<Refusal | undefined>(undefined);

  const signOut = (why?: Refusal) => {
    forgetToken();
    setToken(undefined);
    setRefusal(why);
  };
  if (token === undefined) {
    return (
      <SignInForm
        refusal={refusal}
        onSignedIn={given => {
          saveToken(given);
          setRefusal(undefined);
          setToken(given);
        }}
      />
    );
  }
  if (app === undefined) return <AppPicker token={token} onOpen={setApp} onRefused={signOut} onSignOut={() => signOut()} />;
  return <LogConsole key={`${app}\u0000${token}`} app={app} token={token} onLeave={() => setApp(undefined)} onSignOut={() => signOut()} />;
}
